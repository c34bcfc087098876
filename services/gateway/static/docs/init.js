// Swagger UI over the gateway's own /openapi.json; "Try it out" calls this gateway.
window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  persistAuthorization: true,
  // No badge from validator.swagger.io: nothing leaves this origin (and the CSP would block it).
  validatorUrl: null,
});

// Swagger UI over the gateway's own /openapi.json; "Try it out" calls this gateway.
window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  persistAuthorization: true,
});

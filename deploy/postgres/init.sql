-- One database per service that keeps state; Temporal's auto-setup creates its own two.
CREATE DATABASE users;
CREATE DATABASE orders;

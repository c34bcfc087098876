#!/bin/bash
# One database per service that keeps state, owned by the service's own role; no role reaches another's
# database (CONNECT revoked from PUBLIC). Temporal's auto-setup creates its own two as the administrator.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v user_password="$USER_DB_PASSWORD" -v order_password="$ORDER_DB_PASSWORD" \
  -v payment_password="$PAYMENT_DB_PASSWORD" -v notification_password="$NOTIFICATION_DB_PASSWORD" <<'SQL'
CREATE ROLE user_service LOGIN PASSWORD :'user_password';
CREATE ROLE order_service LOGIN PASSWORD :'order_password';
CREATE ROLE payment_service LOGIN PASSWORD :'payment_password';
CREATE ROLE notification_service LOGIN PASSWORD :'notification_password';
CREATE DATABASE users OWNER user_service;
CREATE DATABASE orders OWNER order_service;
CREATE DATABASE payments OWNER payment_service;
CREATE DATABASE notifications OWNER notification_service;
REVOKE ALL ON DATABASE users FROM PUBLIC;
REVOKE ALL ON DATABASE orders FROM PUBLIC;
REVOKE ALL ON DATABASE payments FROM PUBLIC;
REVOKE ALL ON DATABASE notifications FROM PUBLIC;
REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
SQL

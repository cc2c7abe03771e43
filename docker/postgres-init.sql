-- One server, one database per system (see docker-compose.yml).
CREATE DATABASE airflow;
CREATE DATABASE mlflow;
CREATE DATABASE feast;

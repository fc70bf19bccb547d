-- A few rows so the first query of the tutorial has something to show.
INSERT INTO info (name, description) VALUES
    ('cluster', 'Rust services, PostgreSQL and Redis, run with Docker Compose and Kubernetes'),
    ('dbtool', 'versioned migrations with rollback, applied through refinery');

"""Privacy operations (UK GDPR): restriction, subject-access export, rectification, retention."""

"""The consent register, the gallery of enrolled faces, enrolment and forgetting."""

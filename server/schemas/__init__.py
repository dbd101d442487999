"""marshmallow schemas: the API's boundary, loading requests and dumping replies."""

"""Rich renderables that hold model objects. The only package that imports rich."""

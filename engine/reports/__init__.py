"""The fusion report (HTML + JSON) with inline SVG charts."""

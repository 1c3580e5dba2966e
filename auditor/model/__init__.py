"""The fact model and the result model, and the small closed sets both use: what every layer shares."""

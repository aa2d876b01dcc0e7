"""Monitoring (技术监测): events in, windowed indicators out."""

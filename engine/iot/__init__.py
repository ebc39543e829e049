"""IoT sensing and graded alerts: devices, readings, rules, alerts and the MQTT ingest (see README.md)."""

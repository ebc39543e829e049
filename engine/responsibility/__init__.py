"""Responsibility lists (责任清单): versioned duties per post, linked to tasks and BPMN lanes."""

"""Settings shared by the app's modules."""

CHAT_DEPLOYMENT = "chat-prod"
CREATIVE_TEMPERATURE = 0.7

"""A simulated Azure tenant (ARM, Resource Graph, managed identity, Azure OpenAI data plane) for demos and tests."""

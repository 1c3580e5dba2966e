"""Chat features: the synchronous clients (the v1 OpenAI client and the legacy AzureOpenAI client)."""

import os

from azure.identity import DefaultAzureCredential, get_bearer_token_provider
from openai import AzureOpenAI, OpenAI

from .config import CREATIVE_TEMPERATURE

SUMMARY_DEPLOYMENT = "gpt-4o"  # a model name where the deployment name is needed

token_provider = get_bearer_token_provider(DefaultAzureCredential(), "https://cognitiveservices.azure.com/.default")
client = OpenAI(base_url=os.environ["AZURE_OPENAI_ENDPOINT"] + "openai/v1/", api_key=token_provider)
legacy = AzureOpenAI(
    azure_endpoint=os.environ["AZURE_OPENAI_ENDPOINT"],
    azure_ad_token_provider=token_provider,
    api_version="2024-10-21",
)


def answer(question: str) -> str:
    reply = client.chat.completions.create(
        model="chat-prod",
        messages=[{"role": "user", "content": question}],
        temperature=CREATIVE_TEMPERATURE,
        max_tokens=800,
    )
    return reply.choices[0].message.content or ""


def summarize(text: str) -> str:
    reply = client.chat.completions.create(
        model=SUMMARY_DEPLOYMENT,
        messages=[{"role": "user", "content": f"Summarize: {text}"}],
        temperature=0.2,
    )
    return reply.choices[0].message.content or ""


def classify(text: str) -> str:
    reply = legacy.chat.completions.create(
        model=os.environ["AZURE_OPENAI_CLASSIFIER_DEPLOYMENT"],
        messages=[{"role": "user", "content": text}],
        temperature=0,
    )
    return reply.choices[0].message.content or ""


def reason(problem: str) -> str:
    reply = client.chat.completions.create(
        model=os.getenv("AZURE_OPENAI_REASONER_DEPLOYMENT", "reasoner"),
        messages=[{"role": "user", "content": problem}],
        temperature=0.7,
        max_completion_tokens=1000,
    )
    return reply.choices[0].message.content or ""


def think_hard(problem: str) -> str:
    deployment = "gpt-5-pro"
    reply = client.chat.completions.create(model=deployment, messages=[{"role": "user", "content": problem}])
    return reply.choices[0].message.content or ""


def embed(text: str) -> list[float]:
    return client.embeddings.create(model="embed-large", input=text).data[0].embedding

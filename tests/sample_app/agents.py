"""Agent features: the async client and the Responses API."""

import os

from openai import AsyncOpenAI, OpenAI
from pydantic import BaseModel

from . import config

async_client = AsyncOpenAI(base_url=os.environ["AZURE_OPENAI_ENDPOINT"] + "openai/v1/", api_key=os.environ["KEY"])
client = OpenAI(base_url=os.environ["AZURE_OPENAI_ENDPOINT"] + "openai/v1/", api_key=os.environ["KEY"])


class Invoice(BaseModel):
    number: str
    total: float


async def review(code: str) -> str:
    # The seed guide's mistake: the Responses API takes input=, not messages=.
    response = await async_client.responses.create(
        model="codex",
        messages=[{"role": "user", "content": code}],
        max_output_tokens=2000,
    )
    return response.output_text


def extract(text: str) -> Invoice | None:
    parsed = client.responses.parse(model=config.CHAT_DEPLOYMENT, input=text, text_format=Invoice)
    return parsed.output_parsed


def ask(model: str, prompt: str) -> str:
    # The deployment name comes from the caller: only known at run time.
    return client.responses.create(model=model, input=prompt, reasoning={"effort": "low"}).output_text

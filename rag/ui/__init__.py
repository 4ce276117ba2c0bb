"""The Streamlit app's parts: the article browser page, the engine both pages share, and the
pure pieces behind them (suggested questions, conversation export)."""

"""Query to ranked passages: query checks, filters, fusion, the retriever and its backends."""

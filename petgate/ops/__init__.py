"""The operations petgate performs, one function each, split by subject; commands only parse
their options, call one of these and render what it returns (see ARCHITECTURE.md)."""

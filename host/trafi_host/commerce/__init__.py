"""The commerce core modules extend: products, customers, orders, payments."""

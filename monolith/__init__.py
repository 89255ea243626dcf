"""The demo e-commerce monolith the strangler toolkit is proven on."""

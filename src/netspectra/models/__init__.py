"""The papers' networks as documented nn.Modules."""

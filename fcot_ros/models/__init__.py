"""FCOT's learned model: backbones, decoder, heads, branches, FCOTModel and the frozen feature network."""

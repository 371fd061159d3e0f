"""The online tracker (FCOTTracker) and its parts: augmentation, sample memory, fusion, localisation, presets."""

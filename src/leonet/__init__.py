"""leonet: a digital twin and control plane of a LEO satellite internet system."""

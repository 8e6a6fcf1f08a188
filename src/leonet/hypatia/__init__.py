"""Hypatia (Kassing et al., ACM IMC 2020; github.com/snkas/hypatia) interoperability: its forwarding state
(:mod:`.fstate`), its satellite-network directory's files (:mod:`.files`), ``leonet export hypatia``
(:mod:`.export`) and such a directory as a constellation source (:mod:`.reader`)."""

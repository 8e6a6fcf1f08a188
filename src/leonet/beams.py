"""User beams of a satellite and their capacity: how many, how wide, and how many bits per hertz at a range.

A beam carries one channel; its capacity is the channel's bandwidth times the spectral efficiency of the best
modulation and coding (MODCOD) that closes the link at the beam's slant range (adaptive coding and modulation).
The link model is deliberately simple and every figure is named below with its source:

- **Channels.** 8 channels of 240 MHz in the 2 GHz of Ku-band user downlink (10.7-12.7 GHz): Humphreys et al.,
  "Signal Structure of the Starlink Ku-Band Downlink", IEEE Trans. Aerospace and Electronic Systems 59(5), 2023
  (channel bandwidth 240 MHz, 250 MHz spacing, 8 channels); Pekhterev, "The Bandwidth of the StarLink
  Constellation", SatMagazine, Nov 2021 (UT-1 terminals receive a 240 MHz channel in one polarisation).
- **Beams per satellite: 16** = 8 channels x 2 polarisations (Pekhterev 2021, who derives 8 beams per
  polarisation from the 2 GHz feeder link). UNCERTAIN: SpaceX has not published the figure; other public
  estimates go up to 48 beams (the issue's example), and beam hopping lets one beam serve several cells in a
  frame. ``BeamModel(beams_per_sat=48)`` is one argument away.
- **Beams per cell: at most 8**, one per channel: SpaceX's filings operate with Nco = 1 (no two overlapping
  co-frequency beams: M. Puchol on the starlink@lists.bufferbloat.net list, Aug 2022), and a UT-1 receives one
  polarisation. OUR ASSUMPTION for the default; any k can be given.
- **Spectral efficiency vs SNR**: the DVB-S2 MODCOD table (ETSI EN 302 307-1, Table 13: ideal Es/N0 for a
  normal FECFRAME at PER 1e-7 in AWGN, and each MODCOD's spectral efficiency), used as a proxy for Starlink's
  own adaptive OFDM MODCODs (not public). A MODCOD whose threshold is not below that of a more efficient one
  is never chosen (the table's running maximum).
- **SNR vs range**: free-space spreading from a reference, ``SNR(rho) = SNR_ref - 20 log10(rho / rho_ref)``
  (Friis: received power goes as 1 / rho^2 at a fixed EIRP and antenna gains), with ``SNR_ref`` = 12.0 dB at
  550 km (zenith of the main Gen1 shell). OUR ASSUMPTION, chosen so that a zenith beam runs 16APSK 5/6
  (3.30 bit/s/Hz, 792 Mbit/s in 240 MHz) and a beam at the 25 deg mask (1,124 km) 8PSK 3/5 (1.78 bit/s/Hz,
  427 Mbit/s): "order of 1 Gbit/s" per beam and ~20 Gbit/s per satellite as public analyses put it
  (Pekhterev 2021), and 16-QAM-class modulation for Gen1 (U. Speidel on the same list, Jan 2026). UNCERTAIN:
  the real downlink is power-flux-density limited (ITU-R Article 22 EPFD), which flattens the dependence on
  range; rain fade and the terminal's scan loss are not modelled.

Capacity is bandwidth x efficiency (the roll-off / OFDM overhead is not deducted).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from leonet.constants import EARTH_MEAN_RADIUS_KM

#: Starlink Gen1 user downlink: 8 channels of 240 MHz in 10.7-12.7 GHz (Humphreys et al. 2023).
STARLINK_CHANNELS = 8
STARLINK_CHANNEL_BANDWIDTH_MHZ = 240.0
#: User beams per satellite: 8 channels x 2 polarisations (Pekhterev, SatMagazine Nov 2021). Uncertain.
STARLINK_BEAMS_PER_SAT = 16
#: At most one beam per channel over a cell (Nco = 1; a UT-1 receives one polarisation). Our assumption.
STARLINK_MAX_BEAMS_PER_CELL = 8
#: Reference Es/N0 (dB) at the reference slant range (our assumption, see the module docstring).
SNR_REF_DB = 12.0
#: Reference slant range (km): zenith of the 550 km shell.
SLANT_REF_KM = 550.0

#: DVB-S2 MODCODs (ETSI EN 302 307-1 V1.4.1, Table 13): name, ideal Es/N0 (dB), spectral efficiency (bit/symbol,
#: normal FECFRAME, no pilots), in order of threshold.
DVB_S2_MODCODS: tuple[tuple[str, float, float], ...] = (
    ("QPSK 1/4", -2.35, 0.490243),
    ("QPSK 1/3", -1.24, 0.656448),
    ("QPSK 2/5", -0.30, 0.789412),
    ("QPSK 1/2", 1.00, 0.988858),
    ("QPSK 3/5", 2.23, 1.188304),
    ("QPSK 2/3", 3.10, 1.322253),
    ("QPSK 3/4", 4.03, 1.487473),
    ("QPSK 4/5", 4.68, 1.587196),
    ("QPSK 5/6", 5.18, 1.654663),
    ("8PSK 3/5", 5.50, 1.779991),
    ("QPSK 8/9", 6.20, 1.766451),
    ("QPSK 9/10", 6.42, 1.788612),
    ("8PSK 2/3", 6.62, 1.980636),
    ("8PSK 3/4", 7.91, 2.228124),
    ("16APSK 2/3", 8.97, 2.637201),
    ("8PSK 5/6", 9.35, 2.478562),
    ("16APSK 3/4", 10.21, 2.966728),
    ("8PSK 8/9", 10.69, 2.646012),
    ("8PSK 9/10", 10.98, 2.679207),
    ("16APSK 4/5", 11.03, 3.165623),
    ("16APSK 5/6", 11.61, 3.300184),
    ("32APSK 3/4", 12.73, 3.703295),
    ("16APSK 8/9", 12.89, 3.523143),
    ("16APSK 9/10", 13.13, 3.567342),
    ("32APSK 4/5", 13.64, 3.951571),
    ("32APSK 5/6", 14.28, 4.119540),
    ("32APSK 8/9", 15.69, 4.397854),
    ("32APSK 9/10", 16.05, 4.453027),
)


def spectral_efficiency(
    snr_db: ArrayLike, modcods: tuple[tuple[str, float, float], ...] = DVB_S2_MODCODS
) -> NDArray[np.float64]:
    """Bit/s/Hz of the most efficient MODCOD of ``modcods`` (in order of threshold) whose threshold is at most
    ``snr_db``; 0 below the lowest threshold (no MODCOD closes the link)."""
    thr = np.array([m[1] for m in modcods], dtype=np.float64)
    best = np.maximum.accumulate(np.array([m[2] for m in modcods], dtype=np.float64))
    i = np.searchsorted(thr, np.asarray(snr_db, dtype=np.float64), side="right")  # MODCODs 0..i-1 close it
    out: NDArray[np.float64] = np.where(i > 0, best[np.maximum(i - 1, 0)], 0.0)
    return out


def slant_range_km(
    elevation_deg: ArrayLike, altitude_km: float, radius_km: float = EARTH_MEAN_RADIUS_KM
) -> NDArray[np.float64]:
    """Distance (km) to a satellite at ``altitude_km`` seen at ``elevation_deg`` on a sphere of ``radius_km``:
    ``sqrt((R + h)^2 - R^2 cos^2 e) - R sin e``."""
    e = np.deg2rad(np.asarray(elevation_deg, dtype=np.float64))
    R = radius_km
    out: NDArray[np.float64] = np.sqrt((R + altitude_km) ** 2 - (R * np.cos(e)) ** 2) - R * np.sin(e)
    return out


@dataclass(frozen=True)
class BeamModel:
    """The user-beam payload of every satellite and the link model (defaults: Starlink Gen1, see the module
    docstring for each figure's source and uncertainty)."""

    beams_per_sat: int = STARLINK_BEAMS_PER_SAT
    channels: int = STARLINK_CHANNELS
    channel_bandwidth_mhz: float = STARLINK_CHANNEL_BANDWIDTH_MHZ
    max_beams_per_cell: int = STARLINK_MAX_BEAMS_PER_CELL
    snr_ref_db: float = SNR_REF_DB
    slant_ref_km: float = SLANT_REF_KM
    #: the MODCOD table: (name, Es/N0 threshold dB, bit/s/Hz), in order of threshold
    modcods: tuple[tuple[str, float, float], ...] = field(default=DVB_S2_MODCODS, repr=False)

    def __post_init__(self) -> None:
        if self.beams_per_sat < 0 or self.max_beams_per_cell < 0 or self.channels < 1:
            raise ValueError("beams_per_sat and max_beams_per_cell must be >= 0 and channels >= 1")
        if not (self.channel_bandwidth_mhz > 0 and self.slant_ref_km > 0):
            raise ValueError("channel_bandwidth_mhz and slant_ref_km must be > 0")
        thr = [m[1] for m in self.modcods]
        if not thr or thr != sorted(thr):
            raise ValueError("modcods must be a non-empty table in order of threshold")

    def snr_db(self, slant_km: ArrayLike) -> NDArray[np.float64]:
        """Es/N0 (dB) at a slant range: free-space spreading from the reference."""
        rho = np.asarray(slant_km, dtype=np.float64)
        out: NDArray[np.float64] = self.snr_ref_db - 20.0 * np.log10(rho / self.slant_ref_km)
        return out

    def efficiency(self, slant_km: ArrayLike) -> NDArray[np.float64]:
        """Bit/s/Hz of the best MODCOD that closes the link at ``slant_km`` (0: none does)."""
        return spectral_efficiency(self.snr_db(slant_km), self.modcods)

    def beam_capacity_mbps(self, slant_km: ArrayLike) -> NDArray[np.float64]:
        """Capacity (Mbit/s) of one beam at ``slant_km``: channel bandwidth x spectral efficiency. Vectorised;
        non-increasing in range (so non-decreasing in elevation at a given altitude)."""
        out: NDArray[np.float64] = self.channel_bandwidth_mhz * self.efficiency(slant_km)
        return out

    def beam_capacity_at_elevation_mbps(self, elevation_deg: ArrayLike, altitude_km: float) -> NDArray[np.float64]:
        """:meth:`beam_capacity_mbps` at the slant range of ``elevation_deg`` for a satellite at ``altitude_km``."""
        return self.beam_capacity_mbps(slant_range_km(elevation_deg, altitude_km))

    def satellite_capacity_mbps(self, slant_km: ArrayLike) -> NDArray[np.float64]:
        """Capacity (Mbit/s) of a satellite with every beam at ``slant_km``."""
        out: NDArray[np.float64] = self.beams_per_sat * self.beam_capacity_mbps(slant_km)
        return out

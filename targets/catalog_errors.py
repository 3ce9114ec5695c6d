"""The catalog's exceptions, in one place so that the model, the file loader and the facade
raise the same types.  All are ValueErrors: a bad device name, mode or file is a user error,
reported in one line by the tools, never a crash."""

from __future__ import annotations


class CatalogError(ValueError):
    """A device file or a catalog query is invalid."""


class UnknownDeviceError(CatalogError):
    """The requested device is not in the catalog; the message lists the valid names."""


class UnknownPowerModeError(CatalogError):
    """The requested power mode does not exist for the device; the message lists them."""


class UnsupportedPrecisionError(CatalogError):
    """The device refuses the precision, or it is not native where native was required."""


"""An emcee backend that writes the chain incrementally into a Zarr v3 group.

:class:`ZarrBackend` subclasses :class:`emcee.backends.Backend`. Steps are kept in memory and
flushed in blocks of ``flush_every`` steps (and at the end of every ``run_mcmc``). A run killed
at any moment (even SIGKILL during a flush) leaves a store whose *committed* part is a valid
chain; reopening it and continuing with the same configuration gives bit-identical samples
to an uninterrupted run with the same seed, because the random-number-generator state of
emcee (``State.random_state``, MT19937) is stored with every flush.

Commit protocol of a flush (each Zarr key is written atomically by ``LocalStore``):

1. grow ``chain`` / ``log_prob`` and write the new rows;
2. write the RNG state and the per-walker accepted counts into the checkpoint slot that is
   *not* the committed one (two slots, alternating);
3. update the group attributes ``iteration`` and ``slot`` in a single metadata write
   (``Group.update_attributes``, not ``attrs.update``, which writes key by key) -- this is the
   commit. Rows beyond ``iteration`` (from an interrupted flush) are ignored and truncated on
   reopen.

Layout (every array has ``dimension_names``; ``xarray.open_zarr`` reads it):

====================== ======================= =========================================
array                  dimensions              content
====================== ======================= =========================================
``chain``              (step, walker, parameter) walker positions, float64
``log_prob``           (step, walker)          log-probability of each position
``accepted``           (slot, walker)          accepted proposals per walker (checkpoint)
``rng_key``            (slot, mt_word)         MT19937 key (624 uint32)
``rng_pos``            (slot,)                 MT19937 position
``rng_has_gauss``      (slot,)                 cached-Gaussian flag
``rng_cached_gaussian`` (slot,)                cached Gaussian value
====================== ======================= =========================================

Group attributes: ``format``, ``config`` (JSON dict given by the caller), ``nwalkers``,
``ndim``, ``parameter_names``, ``iteration`` and ``slot`` (the commit), plus whatever the
caller adds with :meth:`ZarrBackend.write_attrs` / :meth:`ZarrBackend.write_array` (summary,
target set). Blobs are not supported.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import emcee
import numpy as np

__all__ = ["ZarrBackend", "CHAIN_FORMAT", "is_chain_store"]

CHAIN_FORMAT = "crustuq-emcee-chain/1"
_MT_WORDS = 624


def _zarr():
    import zarr

    return zarr


def is_chain_store(path) -> bool:
    """True if ``path`` is a Zarr group written by :class:`ZarrBackend`."""
    path = Path(path)
    if not (path / "zarr.json").is_file():
        return False
    try:
        g = _zarr().open_group(str(path), mode="r", zarr_format=3)
        return g.attrs.get("format") == CHAIN_FORMAT
    except Exception:  # noqa: BLE001 - any unreadable store is "not a chain store"
        return False


class ZarrBackend(emcee.backends.Backend):
    """emcee backend storing the chain in a Zarr v3 group at ``path``.

    Parameters
    ----------
    path : folder of the Zarr store.
    config : JSON-able dict stored as the ``config`` attribute when the chain is created
        (ignored when an existing chain is opened; read it back with ``.config``).
    parameter_names : names of the sampled parameters (stored as an attribute).
    flush_every : number of steps kept in memory between writes (>= 1).
    read_only : open an existing chain for reading only.

    An existing chain store at ``path`` is opened (``initialized`` True; emcee then continues
    it); otherwise nothing is written until emcee calls :meth:`reset`. To start over in an
    existing store call :meth:`reset` yourself (or delete the folder).
    """

    def __init__(self, path, *, config: dict | None = None, parameter_names=None,
                 flush_every: int = 100, read_only: bool = False):
        super().__init__(dtype=np.float64)
        if not (isinstance(flush_every, (int, np.integer)) and flush_every >= 1):
            raise ValueError(f"flush_every={flush_every!r}: must be an integer >= 1")
        self.path = Path(path)
        self.flush_every = int(flush_every)
        self.read_only = bool(read_only)
        self._config = dict(config) if config is not None else None
        self._parameter_names = list(parameter_names) if parameter_names is not None else None
        self._group = None
        self._buf_coords: list[np.ndarray] = []
        self._buf_logp: list[np.ndarray] = []
        self._committed = 0
        self._slot = -1
        self._run_end = None
        if is_chain_store(self.path):
            self._load()
        elif read_only:
            raise ValueError(f"chain store {str(self.path)!r}: not found or not a crustuq chain store")

    # ------------------------------------------------------------------ store access
    @property
    def group(self):
        if self._group is None:
            mode = "r" if self.read_only else "r+"
            self._group = _zarr().open_group(str(self.path), mode=mode, zarr_format=3)
        return self._group

    @property
    def config(self) -> dict | None:
        return self._config

    @property
    def parameter_names(self) -> list[str] | None:
        return self._parameter_names

    @property
    def committed_iteration(self) -> int:
        """Number of steps safely on disk."""
        return self._committed

    def _load(self) -> None:
        g = self.group
        attrs = dict(g.attrs)
        self.nwalkers = int(attrs["nwalkers"])
        self.ndim = int(attrs["ndim"])
        self._config = attrs.get("config")
        self._parameter_names = attrs.get("parameter_names")
        self._committed = int(attrs.get("iteration", 0))
        self._slot = int(attrs.get("slot", -1))
        self.iteration = self._committed
        self.blobs = None
        if self._slot >= 0:
            self.accepted = np.asarray(g["accepted"][self._slot], dtype=self.dtype)
            self.random_state = ("MT19937", np.asarray(g["rng_key"][self._slot], dtype=np.uint32),
                                 int(g["rng_pos"][self._slot]), int(g["rng_has_gauss"][self._slot]),
                                 float(g["rng_cached_gaussian"][self._slot]))
        else:
            self.accepted = np.zeros(self.nwalkers, dtype=self.dtype)
            self.random_state = None
        if not self.read_only:
            # drop rows of an interrupted (uncommitted) flush
            for name in ("chain", "log_prob"):
                arr = g[name]
                if arr.shape[0] != self._committed:
                    arr.resize((self._committed,) + arr.shape[1:])
        self.initialized = True

    # ------------------------------------------------------------------ emcee API
    def reset(self, nwalkers, ndim):
        """Create (or re-create) the store for a new chain of ``nwalkers`` x ``ndim``."""
        if self.read_only:
            raise ValueError(f"chain store {str(self.path)!r}: opened read-only")
        zarr = _zarr()
        self.nwalkers = int(nwalkers)
        self.ndim = int(ndim)
        if self.path.exists():
            shutil.rmtree(self.path) if self.path.is_dir() else self.path.unlink()
        self._group = None
        g = zarr.open_group(str(self.path), mode="w", zarr_format=3)
        k = self.flush_every
        g.create_array("chain", shape=(0, self.nwalkers, self.ndim), chunks=(k, self.nwalkers, self.ndim),
                       dtype="float64", fill_value=np.nan, dimension_names=("step", "walker", "parameter"))
        g.create_array("log_prob", shape=(0, self.nwalkers), chunks=(k, self.nwalkers), dtype="float64",
                       fill_value=np.nan, dimension_names=("step", "walker"))
        g.create_array("accepted", shape=(2, self.nwalkers), dtype="float64", fill_value=0.0,
                       dimension_names=("slot", "walker"))
        g.create_array("rng_key", shape=(2, _MT_WORDS), dtype="uint32", fill_value=0,
                       dimension_names=("slot", "mt_word"))
        g.create_array("rng_pos", shape=(2,), dtype="int64", fill_value=0, dimension_names=("slot",))
        g.create_array("rng_has_gauss", shape=(2,), dtype="int64", fill_value=0, dimension_names=("slot",))
        g.create_array("rng_cached_gaussian", shape=(2,), dtype="float64", fill_value=0.0,
                       dimension_names=("slot",))
        names = self._parameter_names or [f"x{i}" for i in range(self.ndim)]
        if len(names) != self.ndim:
            raise ValueError(f"parameter_names: {len(names)} names for ndim={self.ndim}")
        g = g.update_attributes({"format": CHAIN_FORMAT, "config": self._config, "nwalkers": self.nwalkers,
                        "ndim": self.ndim, "parameter_names": list(names), "iteration": 0, "slot": -1})
        self._group = g
        self.iteration = 0
        self._committed = 0
        self._slot = -1
        self._buf_coords, self._buf_logp = [], []
        self.accepted = np.zeros(self.nwalkers, dtype=self.dtype)
        self.blobs = None
        self.random_state = None
        self.initialized = True

    def has_blobs(self):
        return False

    def grow(self, ngrow, blobs):
        if blobs is not None:
            raise ValueError("ZarrBackend: blobs are not supported (the log-probability must return a number only)")
        self._run_end = self.iteration + int(ngrow)

    def save_step(self, state, accepted):
        self._check(state, accepted)
        self._buf_coords.append(np.array(state.coords, dtype=self.dtype))
        self._buf_logp.append(np.array(state.log_prob, dtype=self.dtype))
        self.accepted = self.accepted + accepted
        self.random_state = state.random_state
        self.iteration += 1
        if len(self._buf_coords) >= self.flush_every or self.iteration == self._run_end:
            self.flush()

    def flush(self) -> None:
        """Write the buffered steps and commit them with the current RNG state."""
        if not self._buf_coords:
            return
        g = self.group
        it0 = self._committed
        it1 = it0 + len(self._buf_coords)
        chain, logp = g["chain"], g["log_prob"]
        chain.resize((it1, self.nwalkers, self.ndim))
        chain[it0:it1] = np.stack(self._buf_coords)
        logp.resize((it1, self.nwalkers))
        logp[it0:it1] = np.stack(self._buf_logp)
        slot = 1 - self._slot if self._slot >= 0 else 0
        name, key, pos, has_gauss, cached = self.random_state
        if name != "MT19937":
            raise ValueError(f"ZarrBackend: random state of type {name!r} cannot be stored (need MT19937)")
        g["rng_key"][slot] = np.asarray(key, dtype=np.uint32)
        g["rng_pos"][slot] = int(pos)
        g["rng_has_gauss"][slot] = int(has_gauss)
        g["rng_cached_gaussian"][slot] = float(cached)
        g["accepted"][slot] = self.accepted
        # the commit: ONE metadata write (zarr's attrs.update would write key by key, and a kill
        # between "iteration" and "slot" would pair an iteration with the wrong RNG state)
        self._group = g.update_attributes({"iteration": it1, "slot": slot})
        self._committed, self._slot = it1, slot
        self._buf_coords, self._buf_logp = [], []

    def get_value(self, name, flat=False, thin=1, discard=0):
        if self.iteration <= 0:
            raise AttributeError("you must run the sampler with 'store == True' before accessing the results")
        if name == "blobs":
            return None
        if name not in ("chain", "log_prob"):
            raise ValueError(f"ZarrBackend: unknown value {name!r}")
        start = discard + thin - 1
        parts = []
        if start < self._committed:
            parts.append(np.asarray(self.group[name][start:self._committed]))
            offset = start
        else:
            offset = self._committed
        buf = self._buf_coords if name == "chain" else self._buf_logp
        if buf:
            parts.append(np.stack(buf))
        tail = (self.nwalkers, self.ndim) if name == "chain" else (self.nwalkers,)
        v = np.concatenate(parts, axis=0) if parts else np.empty((0,) + tail, dtype=self.dtype)
        v = v[start - offset:self.iteration - offset:thin]
        if flat:
            s = list(v.shape[1:])
            s[0] = int(np.prod(v.shape[:2]))
            return v.reshape(s)
        return v

    # ------------------------------------------------------------------ extras
    def write_attrs(self, values: dict) -> None:
        """Add/replace group attributes (JSON-able values), e.g. a summary."""
        self._group = self.group.update_attributes(dict(values))

    def write_array(self, name: str, data, dimension_names) -> None:
        """Write (replace) a small array next to the chain, with dimension names."""
        g = self.group
        data = np.asarray(data)
        if name in g:
            del g[name]
        arr = g.create_array(name, shape=data.shape, dtype=data.dtype, dimension_names=tuple(dimension_names),
                             fill_value=0 if data.dtype.kind in "iub" else np.nan)
        arr[...] = data

    def __exit__(self, exception_type, exception_value, traceback):
        self.flush()

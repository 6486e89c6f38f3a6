"""One row's raw score through LightGBM's single-row fast path (the scoring hot path).

`Booster.predict` on a 1-row array spends most of its time in Python: argument checks,
a Predictor object per call, array conversions. LightGBM's C API has a route for this
case, `LGBM_BoosterPredictForMatSingleRowFast`, whose configuration (prediction type,
iterations, one thread) is prepared once: the call is then the tree walk alone. It is
LightGBM's own prediction code, so the margins equal `Booster.predict(raw_score=True)`.
"""

from __future__ import annotations

import ctypes
import threading

import lightgbm as lgb
import numpy as np
from lightgbm.basic import _LIB, _safe_call

_PREDICT_RAW_SCORE = 1  # C_API_PREDICT_RAW_SCORE
_C_DTYPES = {np.dtype(np.float32): 0, np.dtype(np.float64): 1}  # C_API_DTYPE_FLOAT32, C_API_DTYPE_FLOAT64


class SingleRowPredictor:
    """Raw scores of one row at a time, for one booster; safe to share between threads.

    Rows are of one dtype, float64 or float32, chosen when the route is prepared.
    """

    def __init__(self, booster: lgb.Booster, n_features: int, dtype: type[np.floating] = np.float64) -> None:
        self._booster = booster  # the fast config points into it: keep it alive
        self.n_features = n_features
        self.dtype = np.dtype(dtype)
        iterations = booster.best_iteration if booster.best_iteration > 0 else -1
        self._config = ctypes.c_void_p()
        _safe_call(_LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
            booster._handle, ctypes.c_int(_PREDICT_RAW_SCORE), ctypes.c_int(0), ctypes.c_int(iterations),
            ctypes.c_int(_C_DTYPES[self.dtype]), ctypes.c_int32(n_features), ctypes.c_char_p(b"num_threads=1"),
            ctypes.byref(self._config)))
        self._out = ctypes.c_double()
        self._out_len = ctypes.c_int64()
        self._out_ref, self._out_len_ref = ctypes.byref(self._out), ctypes.byref(self._out_len)
        self._lock = threading.Lock()  # the output buffers are shared

    def margin(self, row: np.ndarray) -> float:
        """The raw score of `row`: a C-contiguous array of n_features values of this predictor's dtype."""
        if row.dtype != self.dtype or row.size != self.n_features or not row.flags.c_contiguous:
            raise ValueError(f"expected a contiguous {self.dtype} row of {self.n_features} values, got {row.dtype} "
                             f"{row.shape}")
        with self._lock:
            _safe_call(_LIB.LGBM_BoosterPredictForMatSingleRowFast(
                self._config, ctypes.c_void_p(row.ctypes.data), self._out_len_ref, self._out_ref))
            return self._out.value

    def __del__(self) -> None:
        config = getattr(self, "_config", None)
        if config is not None and config.value is not None:
            _LIB.LGBM_FastConfigFree(config)


class ConstantMargin:
    """The margin of a constant model (a risk trained without both classes): always 0."""

    def margin(self, row: np.ndarray) -> float:
        return 0.0


def row_predictor(
    booster: lgb.Booster | None, n_features: int, dtype: type[np.floating] = np.float64
) -> SingleRowPredictor | ConstantMargin:
    """The fastest exact single-row route for a RiskModel's booster (None for a constant model)."""
    return ConstantMargin() if booster is None else SingleRowPredictor(booster, n_features, dtype)

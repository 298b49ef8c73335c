"""Checked by a static type checker in CI (`.ci/run`), not run: each backend's classes are
assignable to the storage Protocols, member types and signatures included."""

from __future__ import annotations

from spotcast_storage import protocols as P
from spotcast_storage.base import ModelFactory
from spotcast_storage.hopsworks.project import HopsworksProject
from spotcast_storage.hopsworks.registry import HopsworksModel, HopsworksModelRegistry
from spotcast_storage.hopsworks.store import (
    HopsworksFeatureGroup,
    HopsworksFeatureStore,
    HopsworksFeatureView,
)
from spotcast_storage.local.project import LocalProject
from spotcast_storage.local.registry import LocalModel, LocalModelRegistry
from spotcast_storage.local.store import LocalFeatureGroup, LocalFeatureStore, LocalFeatureView


# one function per Protocol and backend, so a checker names the member that does not fit
def _lp(x: LocalProject) -> P.Project: return x
def _lfs(x: LocalFeatureStore) -> P.FeatureStore: return x
def _lfg(x: LocalFeatureGroup) -> P.FeatureGroup: return x
def _lfv(x: LocalFeatureView) -> P.FeatureView: return x
def _lmr(x: LocalModelRegistry) -> P.ModelRegistry: return x
def _lm(x: LocalModel) -> P.Model: return x
def _hp(x: HopsworksProject) -> P.Project: return x
def _hfs(x: HopsworksFeatureStore) -> P.FeatureStore: return x
def _hfg(x: HopsworksFeatureGroup) -> P.FeatureGroup: return x
def _hfv(x: HopsworksFeatureView) -> P.FeatureView: return x
def _hmr(x: HopsworksModelRegistry) -> P.ModelRegistry: return x
def _hm(x: HopsworksModel) -> P.Model: return x
def _mf(x: ModelFactory) -> P.ModelFactory: return x  # both backends' registry.python

"""What the local backend keeps in its DuckDB file besides the data.

Layout inside the file: each feature-group version is a real table ``main.<name>_v<version>``
and a view ``main.<name>`` points at the newest version, so plain DuckDB SQL works
(``select * from prices``). Bookkeeping (groups, commits, events, cursors, models, views,
row history for time travel) lives in the ``_spotcast`` schema, created by :data:`BOOKKEEPING`
on the first write. Model artifacts live in a folder beside the database file.
"""

from __future__ import annotations

SCHEMA_VERSION = "1"

BOOKKEEPING = """
CREATE SCHEMA IF NOT EXISTS _spotcast;
CREATE SEQUENCE IF NOT EXISTS _spotcast.commit_ids START 1;
CREATE SEQUENCE IF NOT EXISTS _spotcast.event_ids START 1;
CREATE TABLE IF NOT EXISTS _spotcast.meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS _spotcast.feature_groups (
    name VARCHAR, version INTEGER, primary_key VARCHAR[], event_time VARCHAR, known_at VARCHAR,
    description VARCHAR, features JSON, time_travel BOOLEAN, options JSON, created_at TIMESTAMPTZ,
    PRIMARY KEY (name, version));
CREATE TABLE IF NOT EXISTS _spotcast.commits (
    commit_id BIGINT, name VARCHAR, version INTEGER, committed_on TIMESTAMPTZ,
    operation VARCHAR, rows_inserted BIGINT, rows_updated BIGINT, rows_deleted BIGINT,
    rows_in_batch BIGINT, min_event_time TIMESTAMPTZ, max_event_time TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS _spotcast.events (
    event_id BIGINT, kind VARCHAR, name VARCHAR, version INTEGER, commit_id BIGINT,
    created_at TIMESTAMPTZ, payload JSON);
CREATE TABLE IF NOT EXISTS _spotcast.cursors (
    consumer VARCHAR PRIMARY KEY, event_id BIGINT, updated_at TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS _spotcast.models (
    name VARCHAR, version INTEGER, created_at TIMESTAMPTZ, description VARCHAR, metrics JSON,
    lineage JSON, extra JSON, artifact_path VARCHAR, PRIMARY KEY (name, version));
CREATE TABLE IF NOT EXISTS _spotcast.feature_views (
    name VARCHAR, version INTEGER, query JSON, labels VARCHAR[], description VARCHAR,
    created_at TIMESTAMPTZ, PRIMARY KEY (name, version));
"""

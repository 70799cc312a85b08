-- A Prolo Planner session store at version 8, made by tests/core/test_store_migrations.py. Never regenerate it.
BEGIN TRANSACTION;
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL
        CHECK (action IN ('created', 'edited', 'signed', 'amended', 'exported', 'imported')),
    session_id INTEGER,
    patient_id INTEGER,
    detail TEXT NOT NULL DEFAULT ''
);
INSERT INTO "audit_log" VALUES(1,'2025-06-01T08:00:00.000Z','dr_a','exported',1,1,'PDF report');
CREATE TABLE editing_leases (
    session_id INTEGER PRIMARY KEY REFERENCES sessions (id),
    instance_id TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    user TEXT NOT NULL DEFAULT '',
    acquired_at REAL NOT NULL,
    heartbeat_at REAL NOT NULL
);
CREATE TABLE held_images (
    session_id INTEGER NOT NULL REFERENCES sessions (id),
    sha256 TEXT NOT NULL REFERENCES images (sha256),
    reasons TEXT NOT NULL DEFAULT '[]',
    origin TEXT NOT NULL DEFAULT '',
    held_at TEXT NOT NULL,
    held_by TEXT NOT NULL DEFAULT '',
    resolution TEXT NOT NULL DEFAULT '' CHECK (resolution IN ('', 'attached', 'dismissed')),
    resolved_at TEXT,
    resolved_by TEXT,
    PRIMARY KEY (session_id, sha256)
) WITHOUT ROWID;
CREATE TABLE images (
    sha256 TEXT PRIMARY KEY,
    library_path TEXT NOT NULL,
    original_path TEXT NOT NULL,
    kind TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    frame_count INTEGER NOT NULL DEFAULT 1,
    sop_class_uid TEXT NOT NULL DEFAULT '',
    study_instance_uid TEXT NOT NULL DEFAULT '',
    series_instance_uid TEXT NOT NULL DEFAULT '',
    sop_instance_uid TEXT NOT NULL DEFAULT '',
    file_patient_id TEXT NOT NULL DEFAULT '',
    file_patient_name TEXT NOT NULL DEFAULT '',
    file_birth_date TEXT NOT NULL DEFAULT '',
    patient_id INTEGER REFERENCES patients (id),
    imported_at TEXT NOT NULL
, file_issuer TEXT NOT NULL DEFAULT '') WITHOUT ROWID;
INSERT INTO "images" VALUES('abababababababababababababababababababababababababababababababab','library/ab/cd.dcm','/media/usb/IM1','dicom',1234,30,'','','','1.2.3','H-001','MULLER^JURGEN','',1,'2025-06-01T08:00:00.000Z','');
CREATE TABLE pacs_records (
    session_id INTEGER PRIMARY KEY REFERENCES sessions (id),
    sr_instance_uid TEXT NOT NULL,
    sr_series_uid TEXT NOT NULL DEFAULT '',
    sr_study_uid TEXT NOT NULL DEFAULT '',
    plan_digest TEXT NOT NULL DEFAULT '',
    made_at TEXT NOT NULL DEFAULT '',
    node TEXT NOT NULL DEFAULT '',
    pulled_at TEXT NOT NULL,
    amends_uid TEXT NOT NULL DEFAULT '',
    conflict_with INTEGER REFERENCES sessions (id),
    set_aside_at TEXT
);
CREATE TABLE patient_terms (
    term TEXT NOT NULL,
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    PRIMARY KEY (term, patient_id)
) WITHOUT ROWID;
INSERT INTO "patient_terms" VALUES('h-001',1);
INSERT INTO "patient_terms" VALUES('h001',1);
INSERT INTO "patient_terms" VALUES('jurgen',1);
INSERT INTO "patient_terms" VALUES('muller',1);
INSERT INTO "patient_terms" VALUES('a-77',2);
INSERT INTO "patient_terms" VALUES('a77',2);
INSERT INTO "patient_terms" VALUES('ann',2);
INSERT INTO "patient_terms" VALUES('jones',2);
INSERT INTO "patient_terms" VALUES('smith',2);
INSERT INTO "patient_terms" VALUES('smith-jones',2);
CREATE TABLE patients (
    id INTEGER PRIMARY KEY,
    mrn TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    birth_date TEXT NOT NULL DEFAULT '',
    sex TEXT NOT NULL DEFAULT '',
    weight_kg REAL CHECK (weight_kg IS NULL OR weight_kg > 0),
    created_at TEXT NOT NULL
, issuer TEXT NOT NULL DEFAULT '');
INSERT INTO "patients" VALUES(1,'H-001','MÜLLER^Jürgen','1960-02-29','M',81.5,'2025-06-01T08:00:00.000Z','');
INSERT INTO "patients" VALUES(2,'A-77','SMITH-JONES^Ann','','',NULL,'2025-06-01T08:00:00.000Z','');
CREATE TABLE plans (
    session_id INTEGER PRIMARY KEY REFERENCES sessions (id),
    document TEXT NOT NULL,
    format_version TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    saved_at TEXT NOT NULL
, site_count INTEGER NOT NULL DEFAULT 0, site_names TEXT NOT NULL DEFAULT '[]', total_ml REAL NOT NULL DEFAULT 0, dextrose_g REAL NOT NULL DEFAULT 0, anaesthetic_mg TEXT NOT NULL DEFAULT '{}');
INSERT INTO "plans" VALUES(1,'{"format": "prolo-planner/plan", "format_version": "1.3", "app_version": "0.1.0", "saved_at": "2026-12-03T16:55:49Z", "plan": {"id": "signed-plan", "title": "signed at v1", "patient_weight_kg": 70.0, "note": "", "images": [{"id": "signed-im", "ref": {"path": "/nowhere/image.dcm", "sop_instance_uid": "", "sha256": "", "frame_count": 1, "name": ""}, "region": "lumbar_spine", "side": "unspecified", "probe_orientation": "unspecified", "body_marker": "", "key_frames": [], "skin_line": null, "manual_calibration": null, "probe": null}], "annotations": [{"type": "target", "id": "signed-t0", "image_id": "signed-im", "frame": null, "position": [100.0, 200.0], "kind": "ligament", "name": "site 0", "side": "unspecified", "status": "injected", "injectate": {"dextrose_percent": 15.0, "anaesthetic": "lidocaine", "anaesthetic_percent": 0.5, "volume_ml": 2.0}, "note": ""}, {"type": "needle_path", "id": "signed-n0", "image_id": "signed-im", "frame": null, "entry": [90.0, 80.0], "target_id": "signed-t0", "approach": "in-plane", "needle_gauge": 25, "needle_length_mm": 38.0}, {"type": "target", "id": "signed-t1", "image_id": "signed-im", "frame": null, "position": [110.0, 201.0], "kind": "ligament", "name": "site 1", "side": "unspecified", "status": "planned", "injectate": {"dextrose_percent": 15.0, "anaesthetic": "lidocaine", "anaesthetic_percent": 0.5, "volume_ml": 2.0}, "note": ""}, {"type": "needle_path", "id": "signed-n1", "image_id": "signed-im", "frame": null, "entry": [100.0, 80.0], "target_id": "signed-t1", "approach": "in-plane", "needle_gauge": 25, "needle_length_mm": 38.0}, {"type": "target", "id": "signed-t2", "image_id": "signed-im", "frame": null, "position": [120.0, 202.0], "kind": "ligament", "name": "site 2", "side": "unspecified", "status": "planned", "injectate": {"dextrose_percent": 15.0, "anaesthetic": "lidocaine", "anaesthetic_percent": 0.5, "volume_ml": 2.0}, "note": ""}, {"type": "needle_path", "id": "signed-n2", "image_id": "signed-im", "frame": null, "entry": [110.0, 80.0], "target_id": "signed-t2", "approach": "in-plane", "needle_gauge": 25, "needle_length_mm": 38.0}, {"type": "avoid_zone", "id": "signed-z", "image_id": "signed-im", "frame": null, "shape": "ellipse", "points": [[10, 300], [60, 340]], "kind": "artery", "name": "artery", "margin_mm": 3.0}]}}','1.0',7,'2025-06-01T08:00:00.000Z',3,'["site 0","site 1","site 2"]',6.0,0.9,'{"lidocaine": 30.0}');
INSERT INTO "plans" VALUES(2,'{"format": "prolo-planner/plan", "format_version": "1.3", "app_version": "0.1.0", "saved_at": "2026-12-03T16:55:49Z", "plan": {"id": "draft-plan", "title": "draft", "patient_weight_kg": 70.0, "note": "", "images": [{"id": "draft-im", "ref": {"path": "/nowhere/image.dcm", "sop_instance_uid": "", "sha256": "", "frame_count": 1, "name": ""}, "region": "lumbar_spine", "side": "unspecified", "probe_orientation": "unspecified", "body_marker": "", "key_frames": [], "skin_line": null, "manual_calibration": null, "probe": null}], "annotations": [{"type": "target", "id": "draft-t0", "image_id": "draft-im", "frame": null, "position": [100.0, 200.0], "kind": "ligament", "name": "site 0", "side": "unspecified", "status": "injected", "injectate": {"dextrose_percent": 15.0, "anaesthetic": "lidocaine", "anaesthetic_percent": 0.5, "volume_ml": 0.5}, "note": ""}, {"type": "needle_path", "id": "draft-n0", "image_id": "draft-im", "frame": null, "entry": [90.0, 80.0], "target_id": "draft-t0", "approach": "in-plane", "needle_gauge": 25, "needle_length_mm": 38.0}, {"type": "avoid_zone", "id": "draft-z", "image_id": "draft-im", "frame": null, "shape": "ellipse", "points": [[10, 300], [60, 340]], "kind": "artery", "name": "artery", "margin_mm": 3.0}]}}','1.0',1,'2025-06-01T08:00:00.000Z',1,'["site 0"]',0.5,0.075,'{"lidocaine": 2.5}');
INSERT INTO "plans" VALUES(3,'{"format": "prolo-planner/plan", "format_version": "1.3", "app_version": "0.1.0", "saved_at": "2026-12-03T16:55:49Z", "plan": {"id": "draft-plan", "title": "draft", "patient_weight_kg": 70.0, "note": "", "images": [{"id": "draft-im", "ref": {"path": "/nowhere/image.dcm", "sop_instance_uid": "", "sha256": "", "frame_count": 1, "name": ""}, "region": "lumbar_spine", "side": "unspecified", "probe_orientation": "unspecified", "body_marker": "", "key_frames": [], "skin_line": null, "manual_calibration": null, "probe": null}], "annotations": [{"type": "target", "id": "draft-t0", "image_id": "draft-im", "frame": null, "position": [100.0, 200.0], "kind": "ligament", "name": "site 0", "side": "unspecified", "status": "injected", "injectate": {"dextrose_percent": 15.0, "anaesthetic": "lidocaine", "anaesthetic_percent": 0.5, "volume_ml": 0.5}, "note": ""}, {"type": "needle_path", "id": "draft-n0", "image_id": "draft-im", "frame": null, "entry": [90.0, 80.0], "target_id": "draft-t0", "approach": "in-plane", "needle_gauge": 25, "needle_length_mm": 38.0}, {"type": "avoid_zone", "id": "draft-z", "image_id": "draft-im", "frame": null, "shape": "ellipse", "points": [[10, 300], [60, 340]], "kind": "artery", "name": "artery", "margin_mm": 3.0}]}}','1.0',1,'2025-06-01T08:00:00.000Z',1,'["site 0"]',0.5,0.075,'{"lidocaine": 2.5}');
CREATE TABLE send_queue (
    id INTEGER PRIMARY KEY,
    node_name TEXT NOT NULL DEFAULT '',
    ae_title TEXT NOT NULL,
    host TEXT NOT NULL,
    port INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    file_path TEXT NOT NULL,
    file_name TEXT NOT NULL DEFAULT '',
    sha256 TEXT NOT NULL,
    sop_instance_uid TEXT NOT NULL DEFAULT '',
    session_id INTEGER REFERENCES sessions (id),
    state TEXT NOT NULL DEFAULT 'waiting'
        CHECK (state IN ('waiting', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    claimed_by TEXT,
    claimed_at REAL,
    last_status INTEGER,
    last_error TEXT NOT NULL DEFAULT '',
    queued_at TEXT NOT NULL,
    queued_by TEXT NOT NULL DEFAULT '',
    sent_at TEXT
, node_url TEXT NOT NULL DEFAULT '', claimed_pid INTEGER, claimed_host TEXT);
INSERT INTO "send_queue" VALUES(1,'PACS','PACS','10.0.0.5',104,'library/ab/cd.dcm','IM1','abababababababababababababababababababababababababababababababab','1.2.3',1,'waiting',1,1748764800.0,NULL,NULL,NULL,'no answer','2025-06-01T08:00:00.000Z','dr_a',NULL,'',NULL,NULL);
INSERT INTO "send_queue" VALUES(2,'PACS','PACS','10.0.0.5',104,'outbox/ef/01.dcm','SR.dcm','efefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefef','1.2.4',1,'sending',0,1748764800.0,'f00d',1748764800.0,NULL,'','2025-06-01T08:00:00.000Z','dr_a',NULL,'',NULL,NULL);
CREATE TABLE session_images (
    session_id INTEGER NOT NULL REFERENCES sessions (id),
    sha256 TEXT NOT NULL REFERENCES images (sha256),
    added_at TEXT NOT NULL,
    PRIMARY KEY (session_id, sha256)
) WITHOUT ROWID;
INSERT INTO "session_images" VALUES(1,'abababababababababababababababababababababababababababababababab','2025-06-01T08:00:00.000Z');
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    started_at TEXT NOT NULL,
    region TEXT NOT NULL DEFAULT '',
    side TEXT NOT NULL DEFAULT 'unspecified',
    clinician TEXT NOT NULL DEFAULT '',
    pain_before INTEGER CHECK (pain_before BETWEEN 0 AND 10),
    pain_after INTEGER CHECK (pain_after BETWEEN 0 AND 10),
    notes TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'signed')),
    signed_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
, version INTEGER NOT NULL DEFAULT 1, amends INTEGER REFERENCES sessions (id), signed_by TEXT, uid TEXT NOT NULL DEFAULT '', signed_over TEXT NOT NULL DEFAULT '[]');
INSERT INTO "sessions" VALUES(1,1,'2025-06-01T09:00:00','knee','left','Dr A',8,5,'first','signed','2025-06-01T08:00:00.000Z','2025-06-01T08:00:00.000Z','2025-06-01T08:00:00.000Z',1,NULL,'dr_a','b53b54d14c71f61e49dafeb3e8a4d964','[]');
INSERT INTO "sessions" VALUES(2,1,'2025-06-22T09:00:00','knee','left','Dr A',5,NULL,'','draft',NULL,'2025-06-01T08:00:00.000Z','2025-06-01T08:00:00.000Z',1,NULL,NULL,'609ed5167e20e5b38f81faf153626497','[]');
INSERT INTO "sessions" VALUES(3,1,'2025-06-01T09:00:00','knee','left','Dr A',8,4,'first, corrected','draft',NULL,'2025-06-01T08:00:00.000Z','2025-06-01T08:00:00.000Z',2,1,NULL,'16de4669805c003f99d2aa321b1df632','[]');
CREATE INDEX patients_name ON patients (name COLLATE NOCASE);
CREATE INDEX sessions_patient ON sessions (patient_id, started_at);
CREATE INDEX images_sop ON images (sop_instance_uid);
CREATE INDEX images_patient ON images (patient_id);
CREATE INDEX session_images_image ON session_images (sha256);
CREATE UNIQUE INDEX sessions_amends ON sessions (amends);
CREATE INDEX audit_session ON audit_log (session_id, id);
CREATE INDEX audit_patient ON audit_log (patient_id, id);
CREATE INDEX patient_terms_patient ON patient_terms (patient_id);
CREATE INDEX send_queue_due ON send_queue (state, next_attempt_at);
CREATE INDEX send_queue_session ON send_queue (session_id);
CREATE INDEX pacs_records_sr ON pacs_records (sr_instance_uid);
CREATE INDEX held_images_open ON held_images (session_id, resolution);
CREATE UNIQUE INDEX sessions_uid ON sessions (uid);
COMMIT;
PRAGMA user_version = 8;

-- Media quality of an answered attempt, both ways. From us: the far end's
-- audio packets that reached the dialer, how many of those it sent never
-- came (by sequence number), and their interarrival jitter (RFC 3550).
-- From the far end's RTCP reports on our audio: packets it lost, its
-- jitter, and the round trip. NULL where there was nothing to measure (no
-- answer, or a far end that sends no RTCP).
ALTER TABLE attempts ADD COLUMN rtp_received INTEGER;
ALTER TABLE attempts ADD COLUMN rtp_lost INTEGER;
ALTER TABLE attempts ADD COLUMN rtp_jitter_ms REAL;
ALTER TABLE attempts ADD COLUMN far_lost INTEGER;
ALTER TABLE attempts ADD COLUMN far_jitter_ms REAL;
ALTER TABLE attempts ADD COLUMN rtt_ms REAL;

-- Answering-machine detection on an answered attempt: who the detector
-- said answered ('person', 'machine', 'unsure') and after how many
-- milliseconds of the far end's audio. NULL where the campaign does not
-- detect, or the call was not answered.
ALTER TABLE attempts ADD COLUMN amd TEXT;
ALTER TABLE attempts ADD COLUMN amd_ms INTEGER;

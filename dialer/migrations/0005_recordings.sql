-- The call recording of an answered attempt (campaign `record = true`):
-- the path of a two-channel WAV, left the debtor, right what the debtor
-- heard. NULL when the call was not recorded or the file could not be
-- written (the attempt's note says why).
ALTER TABLE attempts ADD COLUMN recording TEXT;

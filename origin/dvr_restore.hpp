#pragma once
// The DVR's side of a restart: reads the newest live window of every
// rendition back from the DVR and hands it to the store (SegmentStore::
// restore), so the live playlists go on where they stopped. In: a Dvr and a
// store that has listed nothing yet; out: the store's restored window. Called
// once, from the channel's start-up thread, before any segment comes.
#include <cstddef>
#include <cstdint>

#include "origin/dvr.hpp"
#include "origin/segment_store.hpp"

namespace onair::origin {

// Restores the newest window of every rendition of `store` from `dvr`
// (bytes read from disk), leaving out segments that end at or before
// `not_before` (media time: expired). A segment whose file is gone ends the
// run it was in: the next one restored is marked as a discontinuity.
// Returns how many were restored.
size_t restore_from_dvr(const Dvr& dvr, SegmentStore& store, int64_t not_before);

}  // namespace onair::origin

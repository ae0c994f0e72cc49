// Converts what PeerTube hands the plugin (a video model, a request body) into engine input.
'use strict'

/** The engine's video reference from a PeerTube video model (or any object with those fields). */
function toVideoRef(video) {
  return {
    id: video.id,
    uuid: video.uuid,
    remote: video.remote === true,
    duration: typeof video.duration === 'number' ? video.duration : null,
    isLive: video.isLive === true,
  }
}

/**
 * `currentTime` as PeerTube's validator sees it: a JSON integer, or a string of digits (which
 * `toInt` converts). Anything else is passed on so the engine rejects it with INVALID_ARGUMENT.
 */
function parseCurrentTime(value) {
  if (typeof value === 'string' && /^\d{1,15}$/.test(value.trim())) return Number(value.trim())
  return value
}

/** Empty strings and null become undefined (absent), like PeerTube's optional fields. */
function optional(value) {
  return value === null || value === '' ? undefined : value
}

module.exports = { toVideoRef, parseCurrentTime, optional }

#pragma once
// The clip API and VOD serving, as the handler Routes::set_clips takes:
//   POST     /api/v1/channels/CHANNEL/clips  a clip job (Bearer API token): 202 + the job
//   GET|HEAD /api/v1/channels/CHANNEL/clips  the channel's clips (as /api/v1/clips?channel=)
//   GET|HEAD /api/v1/clips?channel=&event=&status=&since=&until=&limit=&cursor=
//   GET|HEAD /api/v1/clips/ID                one job: in_progress, succeeded, failed + message
//   DELETE   /api/v1/clips/ID                asset and record (Bearer API token): 204;
//                                            409 while the job runs
//   GET|HEAD /vod/ID/master.m3u8, /vod/ID/RENDITION/index.m3u8,
//            /vod/ID/RENDITION/SEQ.ts, /vod/ID/clip.mp4 (Range: bytes=a-b | a- | -n)
// and OPTIONS (CORS preflight) on each. Errors are JSON {"error", "reason"}
// (400 adds "reasons": every problem). Ids are checked against
// [A-Za-z0-9_-]{1,64} before anything reads the disk; only a succeeded
// clip's files are served, mapped (never copied) into the response.
// In: a request, on any server thread (concurrently). Out: a complete
// response. Does not own the service; it must outlive the handler.
#include <string>

#include "origin/harvest.hpp"
#include "origin/http_message.hpp"
#include "origin/router.hpp"

namespace onair::origin {

class ClipRoutes {
  public:
    // `api_token`: what POST and DELETE must bring as "Authorization:
    // Bearer"; empty: those calls are refused (403).
    ClipRoutes(HarvestService& service, std::string api_token);

    // Puts these routes on `router` (a channel's); this object must outlive it.
    void add_routes(Router& router) const;
    // These routes alone (the event controller asks each channel's in turn).
    Reply operator()(const Request& request) const { return router_(request); }
    Handler handler() const { return router_.handler(); }

  private:
    enum class VodFile { master, mp4, rendition };
    Response create(const Request& request, const std::string& channel) const;
    Response list(const Request& request, const std::string* channel) const;
    Response status(const std::string& id) const;
    Response remove(const std::string& id) const;
    Response vod(const Call& call, VodFile kind) const;

    HarvestService& service_;
    std::string api_token_;
    Router router_;
};

// Range: bytes=... against a body of `size` bytes. nullopt: no usable
// single range (serve it all); `satisfiable` false: answer 416.
struct ByteRange {
    bool satisfiable = true;
    std::size_t first = 0;
    std::size_t last = 0;  // inclusive
};
std::optional<ByteRange> parse_byte_range(std::string_view header, std::size_t size);

}  // namespace onair::origin

#pragma once
// The still picture a pipeline shows during input loss once the last real
// picture has been repeated long enough (input_loss.then: slate). Loaded once,
// at start, from a PNG or JPEG with libavformat's image demuxers and
// libavcodec; handed out as a picture shaped like the source's (size, pixel
// format, sample aspect, colour signalling) so the ladder's graph never has to
// change for it: scaled with libswscale to fit, keeping its display aspect,
// with black bars. The shaped picture is made once per source size and
// format. Pipeline thread only.
#include <string>

#include "core/libav.hpp"
#include "core/result.hpp"

namespace onair::encoder {

class Slate {
  public:
    // The first picture of the image file at `path`.
    static core::Result<Slate> load(const std::string& path);
    // The slate shaped like `like`. Owned by the slate; valid until a call
    // with a picture of another shape.
    core::Result<AVFrame*> picture_like(const AVFrame& like);

    int width() const { return image_->width; }
    int height() const { return image_->height; }

  private:
    explicit Slate(core::FramePtr image) : image_(std::move(image)) {}
    core::Result<core::FramePtr> shape_like(const AVFrame& like) const;

    core::FramePtr image_;   // as decoded
    core::FramePtr shaped_;  // for the current source shape; null until asked
};

}  // namespace onair::encoder

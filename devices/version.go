package devices

/*
#cgo pkg-config: vpx opus
#include <vpx/vpx_codec.h>
#include <opus.h>
*/
import "C"

// CodecVersions names the libvpx and libopus linked into this binary (their own
// version strings: "v1.12.0", "libopus 1.3.1"), for `ttycall version` and bug reports.
func CodecVersions() (vpx, opus string) {
	return C.GoString(C.vpx_codec_version_str()), C.GoString(C.opus_get_version_string())
}

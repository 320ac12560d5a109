/* clawvoice simulator — sample-rate conversion for synthesised speech (espeak-ng's 22050 Hz to the
 * Realtime API's 24 kHz or 8 kHz).
 *
 * Offline, whole-buffer conversion: when the rate goes down, a windowed-sinc low-pass below the new
 * Nyquist frequency first, then linear interpolation at the new sample instants. Good enough for
 * intelligible speech; not a studio resampler. */
#pragma once

#include <cstdint>
#include <vector>

namespace clawvoice::sim {

std::vector<int16_t> resample(const std::vector<int16_t> &in, int in_rate, int out_rate);

}  // namespace clawvoice::sim

// Power temperature scaling of the distillation target (docs/method.md#pts):
//   PTS(z) = sign(z) · (|z| / T)^(1/n),  PTS(0) = 0,  default T = 0.1, n = 3.
// It squashes the few large leading SVD components and lifts the many small ones, so the
// student is not asked to match a long-tailed variance spectrum.
import type { Tensor } from "../../tensor/index.js";
import { tidy } from "../../tensor/index.js";

export interface PtsOptions {
  temperature: number;
  power: number;
}

export const PTS_DEFAULTS: PtsOptions = { temperature: 0.1, power: 3 };

export function pts(z: Tensor, o: PtsOptions = PTS_DEFAULTS): Tensor {
  if (!(o.temperature > 0) || !(o.power > 0)) {
    throw new Error(
      `PTS needs temperature > 0 and power > 0, got T=${o.temperature}, n=${o.power}`,
    );
  }
  return tidy(() =>
    z.sign().mul(
      z
        .abs()
        .div(o.temperature)
        .pow(1 / o.power),
    ),
  );
}

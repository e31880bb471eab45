// A small 6-layer convnet used by the nn, optimiser, memory and benchmark checks, with the
// same network written in PyTorch for the reference side.
import {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  Flatten,
  Linear,
  MaxPool2d,
  ReLU,
  Sequential,
} from "../../src/nn/index.js";

export function smallNet(classes = 10, inChannels = 3): Sequential {
  return new Sequential(
    new Conv2d(inChannels, 16, 3, { padding: 1, bias: false }),
    new BatchNorm2d(16),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(16, 32, 3, { padding: 1, bias: false }),
    new BatchNorm2d(32),
    new ReLU(),
    new Conv2d(32, 64, 3, { stride: 2, padding: 1 }),
    new BatchNorm2d(64),
    new ReLU(),
    new AdaptiveAvgPool2d(1),
    new Flatten(),
    new Linear(64, classes),
  );
}

export const SMALL_NET_PY = (classes = 10, inChannels = 3) => `
net = nn.Sequential(
    nn.Conv2d(${inChannels}, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
    nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, ${classes}))
`;

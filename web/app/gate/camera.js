/**
 * Read a pass's QR code: from the camera, or from a photo of the pass.
 *
 * The browser's BarcodeDetector where it has one (Chrome on Android, Safari);
 * otherwise the vendored jsQR decoder (web/vendor/jsqr, pinned in
 * package.json), loaded on first use, reading the frame's pixels from a
 * canvas. Nothing leaves the device.
 */

let jsQRLoaded = null;

async function jsQR() {
  // The UMD bundle, loaded as a module, defines self.jsQR.
  jsQRLoaded ??= import('../../vendor/jsqr/jsQR.js').then(() => globalThis.jsQR);
  return jsQRLoaded;
}

async function nativeDetector() {
  if (!('BarcodeDetector' in globalThis)) return null;
  try {
    const formats = await globalThis.BarcodeDetector.getSupportedFormats();
    return formats.includes('qr_code') ? new globalThis.BarcodeDetector({ formats: ['qr_code'] }) : null;
  } catch {
    return null;
  }
}

/**
 * Return the text of the first QR code in `source` (an image, bitmap, video
 * or canvas), or null when there is none.
 */
export async function decodeQr(source, { detector = undefined } = {}) {
  const native = detector === undefined ? await nativeDetector() : detector;
  if (native) {
    const [found] = await native.detect(source);
    if (found) return found.rawValue;
  }
  const width = source.videoWidth || source.naturalWidth || source.width;
  const height = source.videoHeight || source.naturalHeight || source.height;
  if (!width || !height) return null;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(source, 0, 0, width, height);
  const { data } = context.getImageData(0, 0, width, height);
  const decode = await jsQR();
  return decode(data, width, height, { inversionAttempts: 'attemptBoth' })?.data ?? null;
}

/** Decode a photo the guard picked (a File): the QR's text or null. */
export async function decodeFile(file) {
  const bitmap = await createImageBitmap(file);
  try {
    return await decodeQr(bitmap);
  } finally {
    bitmap.close();
  }
}

/**
 * Show the back camera in `video` and call `onCode(text)` for the first code
 * seen; return a function that stops the camera.
 */
export async function startCamera(video, onCode) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  video.srcObject = stream;
  await video.play();
  let running = true;
  const stop = () => {
    running = false;
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  };
  const detector = await nativeDetector();
  (async function look() {
    while (running) {
      const text = video.readyState >= 2 ? await decodeQr(video, { detector }) : null;
      if (text && running) {
        stop();
        onCode(text);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  })();
  return stop;
}

import sharp, { type Sharp } from 'sharp';
import { AppError } from '../shared/errors.ts';

/** Longest side of a thumbnail, in pixels. */
export const THUMBNAIL_SIZE = 320;

export interface ProcessedImage {
  width: number;
  height: number;
}

const FORMATS = {
  'image/png': (img: Sharp) => img.png(),
  'image/jpeg': (img: Sharp) => img.jpeg({ quality: 88, mozjpeg: true }),
  'image/webp': (img: Sharp) => img.webp({ quality: 88 }),
  'image/gif': (img: Sharp) => img.gif(),
} as const;

/**
 * Re-encodes an uploaded image into `output` in its own format, turned upright by its EXIF orientation and with every
 * metadata block (EXIF with its GPS position, XMP, ICC comments) left behind — sharp writes none unless asked. Whatever
 * else the original carried (a script after the image data, a second format) does not survive a decode and re-encode.
 * Writes a WebP thumbnail to `thumbnail`. Refuses images over `maxPixels` before decoding them.
 */
export async function processImage(input: string, mime: string, output: string, thumbnail: string, maxPixels: number): Promise<ProcessedImage> {
  const encode = FORMATS[mime as keyof typeof FORMATS];
  if (!encode) throw new Error(`not an image type we re-encode: ${mime}`);
  try {
    const meta = await sharp(input, { limitInputPixels: maxPixels }).metadata();
    const animated = (meta.pages ?? 1) > 1 && (mime === 'image/gif' || mime === 'image/webp');
    const open = () => sharp(input, { limitInputPixels: maxPixels, animated });
    // Animated images carry no orientation worth applying (and rotating every frame is not supported).
    const upright = (img: Sharp) => (animated ? img : img.autoOrient());
    const info = await encode(upright(open())).toFile(output);
    await upright(open())
      .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80 })
      .toFile(thumbnail);
    const height = animated ? (meta.pageHeight ?? info.height) : info.height;
    return { width: info.width, height };
  } catch (err) {
    const message = (err as Error).message ?? '';
    if (/pixel limit/i.test(message)) {
      throw new AppError('invalid_input', `The image is larger than ${Math.round(maxPixels / 1e6)} megapixels; scale it down first.`);
    }
    throw new AppError('invalid_input', 'The image could not be decoded; it may be damaged or truncated.');
  }
}

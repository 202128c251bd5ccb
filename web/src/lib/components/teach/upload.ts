import type { ErrorBody } from '$contracts/errors.ts';
import { ASSET_FILE_FIELD, type AssetDto, type AssetEnvelope } from '$contracts/media.ts';

export type UploadResult = { ok: true; asset: AssetDto } | { ok: false; error: ErrorBody };

/**
 * Uploads one file through the web server's pass-through (`POST /app/api/v1/assets`, which adds the session's token
 * and streams the body on). XMLHttpRequest rather than fetch: only it reports upload progress.
 */
export function uploadAsset(file: File, onProgress: (fraction: number) => void, signal?: AbortSignal): Promise<UploadResult> {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    const body = new FormData();
    body.append(ASSET_FILE_FIELD, file, file.name);
    xhr.open('POST', '/app/api/v1/assets');
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(Math.min(1, event.loaded / event.total));
    };
    xhr.onload = () => {
      const payload = parse(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) {
        const asset = (payload as AssetEnvelope | undefined)?.asset;
        if (asset) {
          onProgress(1);
          resolve({ ok: true, asset });
          return;
        }
      }
      resolve({ ok: false, error: errorOf(xhr.status, payload) });
    };
    xhr.onerror = () => resolve({ ok: false, error: { code: 'unavailable', message: 'The upload could not reach Edulure. Check your connection.' } });
    xhr.onabort = () => resolve({ ok: false, error: { code: 'invalid_input', message: 'Upload cancelled.' } });
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}

function parse(text: string): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

function errorOf(status: number, payload: unknown): ErrorBody {
  const error = (payload as { error?: ErrorBody } | undefined)?.error;
  if (error && typeof error.message === 'string') return error;
  if (status === 413) return { code: 'payload_too_large', message: 'That file is too large.' };
  return { code: status >= 500 ? 'unavailable' : 'internal', message: `The upload failed (HTTP ${status}).` };
}

/** "2.4 MB" */
export function byteSizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Resolves or rejects like `promise`, or rejects with "no <what> within <ms> ms" if it takes longer. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what = 'answer'): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

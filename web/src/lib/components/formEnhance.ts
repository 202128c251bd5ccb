import { tick } from 'svelte';
import type { SubmitFunction } from '@sveltejs/kit';

/**
 * `use:enhance` submit handler for the auth forms: tracks the pending state and, when the server rejects the input,
 * moves focus to the first invalid field (or the form alert) so keyboard and screen-reader users land on the problem.
 */
export function submitWithFocus(setPending: (pending: boolean) => void): SubmitFunction {
  return ({ formElement }) => {
    setPending(true);
    return async ({ result, update }) => {
      await update({ reset: false });
      setPending(false);
      if (result.type !== 'failure') return;
      await tick();
      const target =
        formElement.querySelector<HTMLElement>('[aria-invalid="true"]') ??
        formElement.ownerDocument.querySelector<HTMLElement>('[data-form-alert]');
      target?.focus();
    };
  };
}

import { describe, expect, it } from 'vitest';
import { pdfText } from '../../test/learningFactories.ts';
import { certificateDate, certificateFileName, renderCertificatePdf } from './certificatePdf.ts';

const certificate = {
  id: '3f1b7a52-9c1d-4e7a-8b2f-0123456789ab',
  courseId: '8a6e0d1c-5b4f-4a3e-9d2c-0123456789ab',
  recipientName: 'Zoë Ångström-Lee',
  courseTitle: 'Statistics 101: Probability & Inference',
  issuerName: 'The Data Guild',
  issuedAt: '2026-12-05T23:30:00.000Z',
  verificationUrl: 'https://learn.example.com/certificates/3f1b7a52-9c1d-4e7a-8b2f-0123456789ab',
};

describe('the certificate PDF', () => {
  it('is a PDF that reads: name, course, issuer, date (UTC) and where to verify it', async () => {
    for (const compress of [true, false]) {
      const pdf = await renderCertificatePdf(certificate, { compress });
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(pdf.subarray(-6).toString('latin1')).toContain('%%EOF');
      const text = pdfText(pdf);
      expect(text).toContain('CERTIFICATE OF COMPLETION');
      expect(text).toContain('Zoë Ångström-Lee');
      expect(text).toContain('Statistics 101: Probability & Inference');
      expect(text).toContain('Issued by The Data Guild on 5 December 2026');
      expect(text).toContain(`Verify at ${certificate.verificationUrl}`);
    }
  });

  it('renders the same certificate to the same bytes', async () => {
    expect((await renderCertificatePdf(certificate)).equals(await renderCertificatePdf(certificate))).toBe(true);
  });

  it('names the download after the course, in ASCII', () => {
    expect(certificateFileName(certificate)).toBe('certificate-statistics-101-probability-inference-3f1b7a52.pdf');
    expect(certificateFileName({ id: certificate.id, courseTitle: '日本語' })).toBe('certificate-course-3f1b7a52.pdf');
    expect(certificateDate('2026-01-31T23:59:59Z')).toBe('31 January 2026');
  });
});

import PDFDocument from 'pdfkit';
import type { CertificateDto } from '../../contracts/courseLearning.ts';

/*
 * The printable certificate: one A4 landscape page with the recipient, the course, the issuer, the date and the
 * address where anyone can verify it. Drawn with the PDF standard fonts (nothing to embed or ship); they cover Latin
 * scripts (WinAnsi), so a name outside them prints as the closest they have — the verification page shows it exactly.
 */

const PAGE = { size: 'A4', layout: 'landscape', margin: 56 } as const;

/** `5 December 2026`, in UTC like the stored timestamp. */
export function certificateDate(iso: string): string {
  return new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(iso));
}

/** A file name for the download: `certificate-<course>-<id prefix>.pdf`, ASCII only. */
export function certificateFileName(certificate: Pick<CertificateDto, 'id' | 'courseTitle'>): string {
  const slug = certificate.courseTitle
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
  return `certificate-${slug || 'course'}-${certificate.id.slice(0, 8)}.pdf`;
}

/** Renders the certificate; `compress: false` leaves the page's text readable in the file (tests, debugging). */
export function renderCertificatePdf(certificate: CertificateDto, options: { compress?: boolean } = {}): Promise<Buffer> {
  const issued = new Date(certificate.issuedAt);
  const doc = new PDFDocument({
    ...PAGE,
    compress: options.compress ?? true,
    info: {
      Title: `Certificate: ${certificate.courseTitle}`,
      Author: certificate.issuerName,
      Subject: `${certificate.recipientName} completed ${certificate.courseTitle}`,
      // The issue date rather than the render time: the same certificate always renders to the same file.
      CreationDate: issued,
      ModDate: issued,
    },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const { width, height } = doc.page;
  const inner = width - PAGE.margin * 2;
  doc.lineWidth(3).strokeColor('#1f3a5f').rect(28, 28, width - 56, height - 56).stroke();
  doc.lineWidth(1).rect(36, 36, width - 72, height - 72).stroke();

  const line = (text: string, font: string, size: number, color = '#1f2933', gap = 14) => {
    doc.font(font).fontSize(size).fillColor(color).text(text, PAGE.margin, undefined, { width: inner, align: 'center' });
    doc.moveDown(gap / size);
  };
  doc.y = 100;
  line('CERTIFICATE OF COMPLETION', 'Helvetica-Bold', 30, '#1f3a5f', 24);
  line('This certifies that', 'Helvetica', 14);
  line(certificate.recipientName, 'Helvetica-Bold', 32, '#111827', 18);
  line('has completed the course', 'Helvetica', 14);
  line(certificate.courseTitle, 'Helvetica-Bold', 22, '#111827', 26);
  line(`Issued by ${certificate.issuerName} on ${certificateDate(certificate.issuedAt)}`, 'Helvetica', 13);

  doc
    .font('Helvetica')
    .fontSize(10)
    .fillColor('#4b5563')
    .text(`Certificate ${certificate.id}`, PAGE.margin, height - 110, { width: inner, align: 'center' })
    .text(`Verify at ${certificate.verificationUrl}`, { width: inner, align: 'center', link: certificate.verificationUrl });
  doc.end();
  return done;
}

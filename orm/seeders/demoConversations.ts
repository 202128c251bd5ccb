/*
 * What the demo community has been talking about: the members beyond the four demo accounts, the chat history of its
 * public channels, its feed and a class that already took place. Times are hours before the seeding run, so a first
 * visit always finds a conversation of the last few days. orm/seeders/demoActivity.ts writes them.
 */

/** The four demo accounts by their part in the community, and the seeded members. */
export type DemoPerson = 'learner' | 'instructor' | 'moderator' | 'admin' | DemoMemberKey;
export type DemoMemberKey = 'amara' | 'kenji' | 'sofia' | 'priya' | 'lukas';

/** Members who make the community look lived in. Nobody signs in as them: their passwords are random and never shown. */
export const DEMO_MEMBERS: readonly { key: DemoMemberKey; email: string; displayName: string }[] = [
  { key: 'amara', email: 'amara.okafor@demo.edulure.test', displayName: 'Amara Okafor' },
  { key: 'kenji', email: 'kenji.watanabe@demo.edulure.test', displayName: 'Kenji Watanabe' },
  { key: 'sofia', email: 'sofia.herrera@demo.edulure.test', displayName: 'Sofía Herrera' },
  { key: 'priya', email: 'priya.raman@demo.edulure.test', displayName: 'Priya Raman' },
  { key: 'lukas', email: 'lukas.becker@demo.edulure.test', displayName: 'Lukas Becker' },
];

/** A reaction: who, which emoji, minutes after the message. */
export type ScriptedReaction = readonly [by: DemoPerson, emoji: string, afterMinutes: number];

export interface ScriptedMessage {
  /** Names a message that replies point at. */
  key?: string;
  by: DemoPerson;
  /** Hours before the seeding run. */
  hoursAgo: number;
  /** `@Display Name` mentions resolve as in the send path. */
  body: string;
  /** The key of the thread's root message. */
  replyTo?: string;
  reactions?: readonly ScriptedReaction[];
}

export const DEMO_CHANNEL_HISTORY: Record<'general' | 'introductions' | 'study-hall', readonly ScriptedMessage[]> = {
  introductions: [
    {
      key: 'welcome',
      by: 'instructor',
      hoursAgo: 100,
      body: 'Welcome to the Demo Academy! Say hi: who are you, where are you learning from, and what do you want to get out of this community?',
      reactions: [['amara', '👋', 30], ['kenji', '👋', 200], ['priya', '❤️', 1250]],
    },
    {
      by: 'amara',
      hoursAgo: 98,
      body: 'Hi everyone! Amara from Lagos. I work in logistics and I am learning data analysis in the evenings, mostly spreadsheets and SQL so far.',
      reactions: [['instructor', '🎉', 12]],
    },
    { by: 'kenji', hoursAgo: 96.5, body: 'Hello from Osaka 👋 Kenji here. Backend developer, trying to get better at explaining things, which is why I signed up for the live classes.' },
    {
      key: 'sofia',
      by: 'sofia',
      hoursAgo: 92,
      body: '¡Hola! Sofía, from Valencia. Teacher by day, learning instructional design so my online lessons feel less like slides with a voice.',
      reactions: [['priya', '🙌', 40]],
    },
    { by: 'instructor', hoursAgo: 91.5, replyTo: 'sofia', body: 'Sofía, you will like the starter course: its second module is all about pacing your study, and the same ideas work for lessons.' },
    { by: 'sofia', hoursAgo: 91.2, replyTo: 'sofia', body: 'Perfect, adding it to my list. Thanks!' },
    { by: 'priya', hoursAgo: 80, body: 'Hi all, Priya from Chennai, studying in Toronto now. Second-year nursing student. I am here for the study hall more than anything 😅' },
    {
      by: 'lukas',
      hoursAgo: 75,
      body: 'Servus! Lukas from Graz. Mechanical engineer, moving into teaching apprentices. Happy to help anyone with maths.',
      reactions: [['kenji', '👍', 25], ['amara', '👍', 90]],
    },
    { by: 'moderator', hoursAgo: 74, body: 'Welcome, all! I am one of the moderators. If anything feels off, send me a message or report the post and we will look at it.' },
    {
      key: 'learner',
      by: 'learner',
      hoursAgo: 50,
      body: 'Hi! I am the demo learner 🙂 Just finished the first two lessons of the starter course and I am trying to keep a streak going.',
      reactions: [['instructor', '🔥', 15], ['lukas', '🔥', 45], ['sofia', '👋', 70]],
    },
    { by: 'amara', hoursAgo: 49.6, replyTo: 'learner', body: 'Welcome! Streaks work for me too. I do 25 minutes before work, every day.' },
    { by: 'learner', hoursAgo: 49.3, replyTo: 'learner', body: '25 minutes sounds doable. Stealing that.' },
    { by: 'admin', hoursAgo: 30, body: 'Hello from the admin side: if something in the app is confusing, tell us here. It helps us improve it.' },
    { key: 'threads', by: 'kenji', hoursAgo: 29, body: '@Demo Admin the thread view is great. It took me a minute to find it on my phone though.' },
    { by: 'admin', hoursAgo: 28.5, replyTo: 'threads', body: 'Noted, thanks Kenji! We will make it easier to spot.' },
  ],
  general: [
    {
      by: 'moderator',
      hoursAgo: 102,
      body: 'A quick reminder of the house rules: be kind, keep it on topic, and ask before promoting anything. Thanks for making this a good place to learn!',
      reactions: [['instructor', '👍', 20], ['amara', '👍', 300], ['lukas', '👍', 1700]],
    },
    { key: 'welcome-class', by: 'instructor', hoursAgo: 88, body: 'The welcome live class is on the calendar: find it under Classes. Bring your questions about how everything works here.' },
    { by: 'kenji', hoursAgo: 87, replyTo: 'welcome-class', body: 'Will it be recorded?' },
    { by: 'instructor', hoursAgo: 86.5, replyTo: 'welcome-class', body: 'Not this one, it is short and interactive. A written summary goes into the course afterwards.' },
    { key: 'notes', by: 'priya', hoursAgo: 70, body: 'Does anyone have a good method for reviewing notes? I reread them and forget everything by the weekend.' },
    {
      by: 'lukas',
      hoursAgo: 69.5,
      replyTo: 'notes',
      body: 'Do not reread, quiz yourself. Close the notes, write down what you remember, then check what you missed.',
      reactions: [['priya', '🙏', 20], ['amara', '💡', 95]],
    },
    { by: 'sofia', hoursAgo: 69, replyTo: 'notes', body: '+1 to Lukas. Spaced repetition cards helped me a lot with vocabulary too.' },
    { by: 'priya', hoursAgo: 68, replyTo: 'notes', body: 'Okay, trying flashcards tonight. Thank you both!' },
    {
      by: 'amara',
      hoursAgo: 60,
      body: 'Finished the quiz in the first module with 3 out of 3 🎉',
      reactions: [['instructor', '🎉', 10], ['learner', '🎉', 130], ['kenji', '👏', 240]],
    },
    { by: 'instructor', hoursAgo: 59, body: 'Great work, Amara! Keep the same pace for the second module, its last lesson opens a week after you enrol.' },
    { key: 'ebook', by: 'learner', hoursAgo: 46, body: 'Is the course ebook worth reading before the lessons or after?' },
    { by: 'sofia', hoursAgo: 45.5, replyTo: 'ebook', body: '@Demo Learner after, I would say. The lessons set things up and the ebook goes deeper.' },
    { by: 'learner', hoursAgo: 45, replyTo: 'ebook', body: 'Makes sense, thanks Sofía!' },
    { by: 'admin', hoursAgo: 36, body: 'Heads-up: we are trying out the new notifications this week. If you get anything strange, post it here.' },
    { by: 'kenji', hoursAgo: 24, body: 'Anyone else watching the lesson videos at 1.25x? Feels like the sweet spot.' },
    { by: 'lukas', hoursAgo: 23.5, body: '1.5x to review, 1x the first time.' },
    { by: 'priya', hoursAgo: 23, body: '1x for me, I pause a lot to write things down 😄', reactions: [['kenji', '😄', 8]] },
    { by: 'moderator', hoursAgo: 12, body: 'Reminder: the welcome live class is coming up soon. Register under Classes if you want a seat.' },
    { by: 'amara', hoursAgo: 8, body: 'Registered! See you there.' },
    {
      by: 'instructor',
      hoursAgo: 3,
      body: 'Thanks to everyone who came to office hours! The notes are going into the course, and you can check your attendance on the class page.',
      reactions: [['amara', '❤️', 15], ['priya', '❤️', 40], ['learner', '🙌', 80]],
    },
    { by: 'learner', hoursAgo: 1.5, body: 'Back at it: lesson three today.' },
  ],
  'study-hall': [
    { key: 'session', by: 'priya', hoursAgo: 96, body: 'Study session tonight, anyone? I will be here working through pharmacology flashcards from 7 pm my time.' },
    { by: 'kenji', hoursAgo: 95.5, replyTo: 'session', body: 'I am in. Writing up a design document, good to have company.' },
    { by: 'lukas', hoursAgo: 72, body: 'A quick tip for the quiz: read all the options before answering, two of them are very close.' },
    { key: 'median', by: 'amara', hoursAgo: 71, body: 'Can someone explain the difference between a median and a mean like I am five? The lesson made sense but my brain let go of it.' },
    {
      by: 'lukas',
      hoursAgo: 70.5,
      replyTo: 'median',
      body: 'Five friends have 1, 2, 2, 3 and 100 sweets. Mean: share everything equally, 21.6 each. Median: line them up, the one in the middle has 2. The friend with 100 pulls the mean up but not the median.',
      reactions: [['amara', '🙏', 10], ['sofia', '💯', 25], ['instructor', '👏', 60], ['priya', '💯', 140]],
    },
    { by: 'amara', hoursAgo: 70.2, replyTo: 'median', body: 'The friend with 100 sweets is exactly what I needed. Thank you!' },
    { by: 'sofia', hoursAgo: 69.9, replyTo: 'median', body: 'Borrowing this example for my class 😄' },
    { by: 'learner', hoursAgo: 52, body: 'Pomodoro check-in: 2 done, 2 to go.', reactions: [['priya', '💪', 5]] },
    { by: 'priya', hoursAgo: 51.8, body: 'Same here, 3 done. Keep going!' },
    { by: 'moderator', hoursAgo: 40, body: 'Handy for this channel: the study guide (the PDF in the starter course) and the course ebook. Ask here if a link does not work.' },
    { key: 'highlights', by: 'kenji', hoursAgo: 33, body: 'Has anyone used the ebook highlights? I cannot decide whether to highlight or take separate notes.' },
    { by: 'sofia', hoursAgo: 32.5, replyTo: 'highlights', body: 'Highlights for quotes, notes in my own words. If I cannot say it myself, I did not get it.' },
    { key: 'focus', by: 'learner', hoursAgo: 20, body: 'Starting a 45-minute focus block. Anyone joining? @Priya Raman' },
    { by: 'priya', hoursAgo: 19.8, replyTo: 'focus', body: 'Joining! Pharmacology again 😩' },
    {
      by: 'instructor',
      hoursAgo: 10,
      body: 'Office hours recap: the most common question was about locked lessons. Some open a set number of days after you enrol, so seeing one locked is normal.',
      reactions: [['learner', '👍', 30]],
    },
    { by: 'lukas', hoursAgo: 6, body: 'Quiet study crew this evening? I am reviewing statics for an hour.' },
    { by: 'amara', hoursAgo: 2, body: 'Evening shift here. Finishing the second module before the weekend.', reactions: [['lukas', '💪', 10]] },
  ],
};

export interface ScriptedComment {
  key?: string;
  by: DemoPerson;
  hoursAgo: number;
  body: string;
  /** The key of the comment replied to (replies are one level deep). */
  replyTo?: string;
  reactions?: readonly ScriptedReaction[];
}

export interface ScriptedPost {
  by: DemoPerson;
  hoursAgo: number;
  body: string;
  linkUrl?: string;
  poll?: { question: string; options: readonly string[]; votes: readonly (readonly [DemoPerson, number])[] };
  /** Pinned by this moderator. */
  pinnedBy?: DemoPerson;
  comments?: readonly ScriptedComment[];
  reactions?: readonly ScriptedReaction[];
}

export const DEMO_POSTS: readonly ScriptedPost[] = [
  {
    by: 'instructor',
    hoursAgo: 90,
    pinnedBy: 'moderator',
    body: 'Welcome to the community feed! Share wins, questions and things you found useful. To start: what is one thing you want to learn this month?',
    reactions: [['amara', '❤️', 20], ['kenji', '❤️', 90], ['sofia', '❤️', 200], ['lukas', '👍', 900]],
    comments: [
      { by: 'amara', hoursAgo: 89, body: 'Pivot tables without searching for every step.' },
      { key: 'talk', by: 'kenji', hoursAgo: 88, body: 'Giving a talk without reading from my notes.' },
      { by: 'instructor', hoursAgo: 87.5, replyTo: 'talk', body: 'Great goal. The live classes are good practice: come on stage and answer a question.', reactions: [['kenji', '🙏', 20]] },
      { by: 'priya', hoursAgo: 79, body: 'Passing my pharmacology midterm 🤞' },
    ],
  },
  {
    by: 'lukas',
    hoursAgo: 50,
    body: 'The best free explanation of spaced repetition I know, with the maths behind it, as an interactive comic.',
    linkUrl: 'https://ncase.me/remember/',
    reactions: [['priya', '💡', 30], ['learner', '💡', 120]],
    comments: [
      { by: 'sofia', hoursAgo: 48, body: 'Love the comics. Sharing it with my students.' },
      { by: 'learner', hoursAgo: 46.5, body: 'Reading this tonight!' },
    ],
  },
  {
    by: 'moderator',
    hoursAgo: 30,
    body: 'Help us plan the next live class!',
    poll: {
      question: 'Which live class should we run next?',
      options: ['Note-taking that sticks', 'Exam prep in two weeks', 'Presenting with confidence', 'Spreadsheets from scratch'],
      votes: [['amara', 3], ['kenji', 2], ['priya', 1], ['lukas', 2], ['sofia', 0], ['admin', 0]],
    },
    comments: [{ by: 'kenji', hoursAgo: 29, body: 'Presenting, please! 🙏' }],
  },
  {
    by: 'amara',
    hoursAgo: 5,
    body: 'Small win: I built my first pivot table at work today and my manager asked me to show the team how. This community helped a lot, thank you!',
    reactions: [['instructor', '🎉', 10], ['learner', '🎉', 25], ['priya', '🎉', 40], ['lukas', '🎉', 55], ['kenji', '❤️', 70]],
    comments: [
      { by: 'instructor', hoursAgo: 4.5, body: 'That is brilliant, well done!', reactions: [['amara', '❤️', 5]] },
      { by: 'learner', hoursAgo: 4, body: 'Congratulations, Amara! 🎉' },
    ],
  },
];

/** A class that already took place, hosted by the demo instructor: who was registered and when each was in the room. */
export const DEMO_PAST_CLASS = {
  title: 'Office hours: study habits that stick',
  description: 'Bring your questions about the starter course: planning your week, reviewing notes, and staying on track.',
  /** Scheduled start, hours before the seeding run (rounded down to the hour). */
  hoursAgo: 27,
  durationMinutes: 45,
  capacity: 30,
  /** Opened this many minutes after its scheduled start, ended this many minutes after it opened. */
  startedLateMinutes: 2,
  ranMinutes: 44,
  /** Registered learners and their stretches in the room, in minutes after the class opened: one reconnected after a
   * 15-second drop, one came late, one left early, one never came. */
  attendance: [
    { by: 'learner', stays: [[-1, 44]] },
    { by: 'amara', stays: [[0, 20], [20.25, 44]] },
    { by: 'kenji', stays: [[6, 44]] },
    { by: 'priya', stays: [[0, 12]] },
    { by: 'lukas', stays: [] },
  ] satisfies { by: DemoPerson; stays: [number, number][] }[],
} as const;

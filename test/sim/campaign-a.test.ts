/** The first half of the thousand schedules per push (test/sim/campaign.ts). */
import { campaignHalf } from './campaign.ts';

campaignHalf(1);
